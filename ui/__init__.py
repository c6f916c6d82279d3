"""Shared Streamlit pieces: auth gate, navigation, i18n, layout and form helpers."""
