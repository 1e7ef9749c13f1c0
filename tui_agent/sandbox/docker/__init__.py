"""The Docker sandbox: pre-started hardened containers, the image, the in-container supervisor."""
