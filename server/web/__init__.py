"""The HTTP application: factory, error handling and shared dependencies for the API and the console."""
