"""The web pages the gateway serves to people in a browser (issue 13), in Chinese by default.

``app.handle`` answers every page request: the login, the screens, the static files. A page
never calls a service itself: it runs the API's routes for the signed-in person
(``data.py``), so what a page shows is exactly what the API would give them. Templates are
Jinja2 (autoescaped) with every visible text through the message catalogues (``i18n.py``,
``locale/``); the front-end libraries are vendored (``vendor.toml``), no CDN.

(Kept free of imports: ``bin/vendor`` imports ``vendor`` alone at image build time.)
"""
