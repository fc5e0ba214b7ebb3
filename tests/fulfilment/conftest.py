# The registry's subject-data fixtures: fulfilment exports and erases exactly that data.
from tests.registry.conftest import make_subject_data, officer, subject_data, verified_request_for  # noqa: F401
