"""Service-internal SQL helpers shared by the service modules."""


def like_escape(text: str) -> str:
    """Typed % and _ are letters to search for, not wildcards (use with `.like(…, escape="\\\\")`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
