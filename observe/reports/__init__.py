"""Printed reports: PDFs rendered by WeasyPrint from the same templates as the pages."""
