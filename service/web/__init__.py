"""The server-rendered pages: Jinja2 templates, the stylesheet, SVG charts and the staff pages' cookie session."""
