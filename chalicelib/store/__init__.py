"""The store: one small interface, two adapters (SQLite, DynamoDB).

``model`` holds the domain types, ``protocol`` the ``Store`` interface both
adapters (``sqlite``, ``dynamodb``) match; ``chalicelib.deps.get_store`` picks one.
Adapters are imported only when chosen, so a SQLite run never imports boto3.
"""
