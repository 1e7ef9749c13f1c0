"""Stock levels read from a JSON file."""

import json


def load(path):
    with open(path) as handle:
        return json.load(handle)


def total_value(items):
    return sum(item["price"] * item["qty"] for item in items)


def low_stock(items, threshold=5):
    return [item["name"] for item in items if item["qty"] < threshold]
