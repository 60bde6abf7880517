"""The sandbox's CAMARA Device Location Verification API, called as a notebook would.

Synthetic: every device is at the Eiffel Tower (48.8584, 2.2945), known to within 100 m.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orange_nb import Orange, OrangeAPIError

DLV = "/sandbox/camara/location-verification/v1/verify"
SCOPE = "location-verification:verify"
TOWER = {"latitude": 48.8584, "longitude": 2.2945}


@pytest.fixture
def located(make_session: Callable[..., Orange]) -> Orange:
    return make_session(scopes=["openid", SCOPE])


def _area(center: dict[str, float], radius: float) -> dict[str, object]:
    return {"areaType": "CIRCLE", "center": center, "radius": radius}


@pytest.mark.parametrize(
    ("center", "radius", "result"),
    [
        (TOWER, 2000, "TRUE"),
        ({"latitude": 48.8566, "longitude": 2.3522}, 5000, "TRUE"),  # Paris centre, 4.2 km off
        ({"latitude": 45.764, "longitude": 4.8357}, 200_000, "FALSE"),  # Lyon, 392 km off
        ({"latitude": 48.8584, "longitude": 2.3218}, 2000, "PARTIAL"),  # 2.0 km east
    ],
)
def test_inside_outside_and_partly(
    located: Orange, center: dict[str, float], radius: float, result: str
) -> None:
    answer = located.request("POST", DLV, json={"area": _area(center, radius)}).json()
    assert answer["verificationResult"] == result
    assert ("matchRate" in answer) == (result == "PARTIAL")
    if result == "PARTIAL":
        assert 1 <= answer["matchRate"] <= 99
    assert answer["lastLocationTime"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"area": _area(TOWER, 100)}, "radius must be 2000 to 200000"),
        ({"area": _area({"latitude": 91, "longitude": 0}, 2000)}, "latitude"),
        ({"area": {"areaType": "POLYGON"}}, "CIRCLE"),
        ({"device": {"phoneNumber": "0612"}, "area": _area(TOWER, 2000)}, "E.164"),
        ({"area": _area({"latitude": float("nan"), "longitude": 0}, 2000)}, None),
    ],
)
def test_bad_areas_read_as_one_paragraph(
    located: Orange, body: dict[str, object], says: str | None
) -> None:
    with pytest.raises(OrangeAPIError) as info:
        if says is None:  # NaN is no JSON: sent as the text a careless encoder writes
            located.request(
                "POST",
                DLV,
                content=b'{"area": {"areaType": "CIRCLE", "center": {"latitude": NaN, '
                b'"longitude": 0}, "radius": 2000}}',
                headers={"Content-Type": "application/json"},
            )
        else:
            located.request("POST", DLV, json=body)
    error = info.value
    assert error.status == 400 and "\n" not in str(error)
    assert says is None or says in str(error)
    assert error.correlator and error.correlator in str(error)


def test_without_the_scope_the_api_says_which(make_session: Callable[..., Orange]) -> None:
    other = make_session()
    with pytest.raises(OrangeAPIError) as info:
        other.request("POST", DLV, json={"area": _area(TOWER, 2000)})
    assert info.value.status in (401, 403)
