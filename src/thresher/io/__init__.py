"""Readers and writers of the formats at thresher's edges (Lightly, COCO, YOLO, video, …)."""
