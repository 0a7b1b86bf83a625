"""The web app: rating pages, AMP endpoint, unsubscribe, API, admin and dashboard."""
