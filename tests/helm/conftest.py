"""The chart rendered once per session with its ci values and the kind values."""

import pytest
from helm_kit import KIND_VALUES, PROD_VALUES, render


@pytest.fixture(scope="session")
def prod_manifests() -> list[dict]:
    return render(PROD_VALUES)


@pytest.fixture(scope="session")
def kind_manifests() -> list[dict]:
    return render(KIND_VALUES)
