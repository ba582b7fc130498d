from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from designer import transfer


class YAMLParser(BaseParser):
    """YAML request bodies, read with yaml.safe_load only."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return transfer.load(stream.read(), "yaml")
        except transfer.ImportError_ as exc:
            raise ParseError(str(exc)) from None
