#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Parses a Prometheus text exposition (the file named first) with prometheus_client's
parser, as a Prometheus server would read it, and prints one JSON object per sample:
{"name", "type", "labels", "value"}. Exits non-zero (with the parser's error) when the text
does not parse, or when a family has no HELP line.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    for family in text_string_to_metric_families(text):
        if not family.documentation:
            sys.exit("family %s has no HELP text" % family.name)
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "type": family.type,
                              "labels": sample.labels, "value": sample.value}))


if __name__ == "__main__":
    main()
