"""Safe XML parsing and WeChat-style XML building.

Real-platform rule mimicked: callback and WeChat Pay bodies are flat
``<xml>`` documents, text values in CDATA, numbers bare.  Incoming XML is
parsed with defusedxml (no DTD, no entities), like a careful receiver must;
where defusedxml is not installed (e.g. a bare Odoo environment) lxml is used
with entity resolution, DTD loading and network access off, and any DOCTYPE
is refused.
"""

from xml.etree.ElementTree import ParseError

try:
    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as SafeET
except ImportError:  # pragma: no cover - depends on the environment
    DefusedXmlException = ValueError
    SafeET = None


def parse_xml(data):
    """Parse a WeChat XML document into a dict (nested elements -> dicts,
    repeated siblings -> lists).  Raises ValueError on bad or unsafe XML."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise ValueError("empty xml")
    value = _element_value(_root(data))
    return value if isinstance(value, dict) else {}


def _root(data):
    if SafeET is not None:
        try:
            return SafeET.fromstring(data, forbid_dtd=True)
        except (ParseError, DefusedXmlException) as exc:
            raise ValueError(f"bad xml: {exc}") from exc
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"bad xml: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise ValueError("bad xml: DTD is forbidden")
    return root


def _element_value(el):
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        return el.text or ""
    out = {}
    for child in children:
        value = _element_value(child)
        if child.tag in out:
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


def _cdata(text):
    return "<![CDATA[{}]]>".format(str(text).replace("]]>", "]]]]><![CDATA[>"))


class Repeated(list):
    """A list rendered as repeated sibling elements of its key (``<List>..</List><List>..</List>``),
    the shape of ``SubscribeMsgPopupEvent`` and friends; a plain list renders as ``<key><item/>..</key>``."""


def build_xml(data, root="xml"):
    """Render a dict as WeChat XML: ints bare, strings in CDATA, dicts nested,
    lists as repeated ``item`` elements, ``Repeated`` lists as repeated ``key`` elements."""
    return f"<{root}>{_build_children(data)}</{root}>"


def _build_children(data):
    parts = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):
            parts.append(f"<{key}>{_build_children(value)}</{key}>")
        elif isinstance(value, Repeated):
            parts.append("".join(_build_children({key: v}) for v in value))
        elif isinstance(value, list):
            items = "".join(
                "<item>%s</item>" % (_build_children(v) if isinstance(v, dict) else _cdata(v)) for v in value
            )
            parts.append(f"<{key}>{items}</{key}>")
        elif isinstance(value, bool):
            parts.append("<%s>%d</%s>" % (key, int(value), key))
        elif isinstance(value, int):
            parts.append("<%s>%d</%s>" % (key, value, key))
        else:
            parts.append(f"<{key}>{_cdata(value)}</{key}>")
    return "".join(parts)
