"""Hooks in the amazon provider's style: each owns the boto3 calls of one kind of resource."""
