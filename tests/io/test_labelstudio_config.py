from xml.etree import ElementTree

from thresher.io.labelstudio_config import labeling_config


def test_config_lists_each_class_once_escaped():
    xml = labeling_config(["car", 'a "b" & <c>', "car"])
    view = ElementTree.fromstring(xml)
    image, boxes = list(view)
    assert (image.tag, image.get("name"), image.get("value")) == ("Image", "image", "$image")
    assert (boxes.tag, boxes.get("name"), boxes.get("toName")) == ("RectangleLabels", "label", "image")
    assert [label.get("value") for label in boxes] == ["car", 'a "b" & <c>']
