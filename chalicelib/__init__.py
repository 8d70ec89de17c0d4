"""chalkboard's application code, packaged by Chalice into the Lambda zip."""
