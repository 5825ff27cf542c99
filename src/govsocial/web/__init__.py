"""The web app: public results, registration and the jury portal (docs/web.md)."""
