"""The WSGI entry point: ``gunicorn wsgi:app``."""

from observe import create_app

app = create_app()
