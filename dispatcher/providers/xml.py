"""The one way adapters parse a provider's XML: untrusted, so nothing is fetched or expanded."""

from __future__ import annotations

from lxml import etree


def hardened_parser(encoding: str | None = None) -> etree.XMLParser:
    """A parser that resolves no entity, loads no DTD, opens no network and refuses huge trees.

    One per call: an lxml parser must not be shared between threads.
    """
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
