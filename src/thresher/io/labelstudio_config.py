"""The Label Studio labeling config that fits thresher's tasks: boxes with the task's classes.

`<Image name="image" value="$image">` shows `data.image`; `<RectangleLabels name="label"
toName="image">` holds one `<Label>` per class of the prediction task's schema, in id order,
so every prediction's `from_name`/`to_name` ("label"/"image") and every label resolves.
Names are XML-escaped; a name listed twice in the schema appears once.

Example: `labeling_config(["car", "cat"])` →
```
<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="car"/>
    <Label value="cat"/>
  </RectangleLabels>
</View>
```
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

from thresher.io.labelstudio import FROM_NAME, TO_NAME


def labeling_config(labels: Iterable[str]) -> str:
    """The `<View>` XML for rectangle labels of `labels` (see the module docstring)."""
    lines = [
        "<View>",
        f'  <Image name="{TO_NAME}" value="${TO_NAME}" zoom="true"/>',
        f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">',
        *(f"    <Label value={quoteattr(label)}/>" for label in dict.fromkeys(labels)),
        "  </RectangleLabels>",
        "</View>",
    ]
    return "\n".join(lines) + "\n"
