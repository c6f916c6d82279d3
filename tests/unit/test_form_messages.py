"""Refusal messages are shown as Markdown: user text inside them (a unit's name) must stay inert."""

from domain.errors import ValidationError
from ui.forms import error_text


def test_a_units_name_in_a_message_cannot_become_a_link_or_an_image():
    name = "[点此](https://evil.example/login) ![](https://evil.example/p.png) **粗体**"
    shown = error_text(ValidationError("validation.already_member", field="name", name=name))
    assert "](https://" not in shown and "**粗体**" not in shown
    assert "\\[点此\\]" in shown


def test_table_cells_get_the_name_as_typed():
    name = "A.B-C (test)"
    assert name in error_text(ValidationError("import.unknown_recommender", name=name), markdown=False)


def test_a_web_or_mail_address_in_user_text_cannot_become_a_live_link():
    from ui.forms import plain

    shown = plain("**粗体**单位_[链接](http://evil.example)_ www.evil.example boss@evil.example")
    assert "://" not in shown.replace("\\", "") and "www." not in shown.replace("\\", "")
    assert "@evil" not in shown
    # still reads the same: only invisible breaks and Markdown escapes were added
    assert (
        shown.replace("\u200b", "").replace("\\", "")
        == "**粗体**单位_[链接](http://evil.example)_ www.evil.example boss@evil.example"
    )
