"""Parse Prometheus text exposition (stdin) with the reference parser,
prometheus_client.parser.text_string_to_metric_families, and print one JSON
object per family: {"name", "type", "help", "samples": [[name, labels, value]]}.
Exits non-zero (with the parser's error) when the text does not parse."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
out = []
for family in text_string_to_metric_families(text):
    out.append(
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
    )
json.dump(out, sys.stdout)
