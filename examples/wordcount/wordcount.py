"""Count words and lines in a text."""

import sys


def count_words(text):
    return len(text.split(" "))


def count_lines(text):
    return text.count("\n")


if __name__ == "__main__":
    data = sys.stdin.read()
    print(count_words(data), count_lines(data))
