"""Presentation: a certified trail in, documents out.

``document`` builds the view of a trail (with ``facts``, ``figure`` and the
worked ``example``), ``latex`` is the whiteboard printer, ``notation`` the
user's symbols, and ``render`` the Jinja2 environment over ``templates/``.
Presentation renders a trail; it never derives.
"""
