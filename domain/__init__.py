"""Pure rules of the network: no streamlit, no sqlalchemy, nothing of ours imported."""
