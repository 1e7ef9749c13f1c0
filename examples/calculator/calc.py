"""A tiny calculator with two bugs for the agent to find."""


def add(a, b):
    return a + b


def divide(a, b):
    """Divide a by b; dividing by zero gives None instead of crashing."""
    return a / b


def average(numbers):
    """The mean of a list of numbers; the mean of nothing is 0."""
    return sum(numbers) / len(numbers) + 1
