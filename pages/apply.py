"""Public application form (申请加入网络): open only when the secretariat has opened intake."""

import streamlit as st

from db.engine import transaction
from db.services import settings
from ui.auth import require_role
from ui.i18n import t

require_role("apply")
st.title(t("page.apply"))
with transaction() as session:
    intake_open = settings.get_setting(session=session, key="intake_open")
if not intake_open:
    st.info(t("apply.closed"), icon=":material/schedule:")
else:
    st.info(t("layout.under_construction"), icon=":material/construction:")
