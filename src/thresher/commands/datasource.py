"""Commands over a datasource: validate, convert, samples, demo."""
