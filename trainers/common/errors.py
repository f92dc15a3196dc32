"""Exceptions for bad user input; the CLI turns them into exit code 2."""


class DataError(ValueError):
    """Bad input data: the message names the file or row and the fix."""
