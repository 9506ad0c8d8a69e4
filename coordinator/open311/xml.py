"""Open311 GeoReport v2 in XML, the spec's required format: the same answers as the JSON routes, written
with the spec's element names (`<services><service>…`, `<service_requests><request>…`,
`<errors><error><code/><description/></error></errors>`, `<discovery>…<endpoints><endpoint>…<formats>
<format>…`, `<service_definition>…<attributes><attribute>…<values><value>…`), UTF-8 with the XML
declaration. No Flask here: the views and the tests use it alike.

Why ElementTree and no XML library: the answers are flat records of text, and the standard library writes
and reads them; what is ours is only the table of element names.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel

from coordinator.open311.schemas import (
    CreatedList,
    Discovery,
    Open311Errors,
    ServiceDefinition,
    ServiceList,
    ServiceRequestList,
)

XML = "text/xml"  # the media type GeoReport v2 discovery lists for XML
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# The root element of each answer model, and the element of each list item (None: not a list).
ROOTS: dict[type[BaseModel], tuple[str, str | None]] = {
    Discovery: ("discovery", None),
    ServiceList: ("services", "service"),
    ServiceDefinition: ("service_definition", None),
    ServiceRequestList: ("service_requests", "request"),
    CreatedList: ("service_requests", "request"),
    Open311Errors: ("errors", "error"),
}
# Lists inside a record: the element of each of their items.
LIST_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ElementTree.SubElement(element, LIST_ITEMS[element.tag]), item)
    else:
        element.text = _text(value)


def render(model: type[BaseModel], data: Any) -> bytes:
    """An answer of `model` (its JSON form: what the JSON route answers) as an XML document."""
    root_name, item_name = ROOTS[model]
    root = ElementTree.Element(root_name)
    if item_name is None:
        _fill(root, data)
    else:
        for item in data:
            _fill(ElementTree.SubElement(root, item_name), item)
    return DECLARATION + ElementTree.tostring(root, encoding="unicode").encode("utf-8")


def _read(element: ElementTree.Element) -> Any:
    children = list(element)
    if element.tag in LIST_ITEMS:
        return [_read(child) for child in children]
    if not children:
        return element.text or ""
    return {child.tag: _read(child) for child in children}


def parse(model: type[BaseModel], body: bytes) -> Any:
    """Read an XML answer of `model` back into its JSON form with text leaves (booleans `true`/`false`,
    numbers as written, null and "" both empty). ValueError if it is not such a document."""
    if not body.startswith(DECLARATION):
        raise ValueError("the XML declaration with encoding UTF-8 is missing")
    root = ElementTree.fromstring(body)
    root_name, item_name = ROOTS[model]
    if root.tag != root_name:
        raise ValueError(f"the root element is <{root.tag}>, not <{root_name}>")
    if item_name is None:
        return _read(root)
    strays = [child.tag for child in root if child.tag != item_name]
    if strays:
        raise ValueError(f"<{root_name}> holds <{strays[0]}>, not only <{item_name}>")
    return [_read(child) for child in root]


def as_text(data: Any) -> Any:
    """A JSON answer with its leaves as XML writes them: what `parse` returns for the same answer."""
    if isinstance(data, dict):
        return {key: as_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_text(item) for item in data]
    return _text(data)
