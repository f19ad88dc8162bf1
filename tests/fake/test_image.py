"""A little Glance v2: list and show images."""

from __future__ import annotations

import uuid


def test_list_images(admin):
    resp = admin.image("GET", "/images")
    assert resp.status_code == 200
    body = resp.json()
    names = [i["name"] for i in body["images"]]
    assert "cirros-0.6.2-x86_64-disk" in names
    assert body["first"].startswith("/v2/images")
    img = body["images"][0]
    for key in (
        "id",
        "name",
        "status",
        "visibility",
        "disk_format",
        "container_format",
        "min_disk",
        "min_ram",
        "size",
        "created_at",
        "updated_at",
        "self",
        "file",
    ):
        assert key in img, key
    assert img["status"] == "active"
    assert img["self"] == f"/v2/images/{img['id']}"


def test_show_image(admin, member):
    iid = admin.image_id()
    for api in (admin, member):
        resp = api.image("GET", f"/images/{iid}")
        assert resp.status_code == 200
        assert resp.json()["id"] == iid


def test_unknown_image_404(admin):
    resp = admin.image("GET", f"/images/{uuid.uuid4()}")
    assert resp.status_code == 404


def test_sdk_images(conn):
    assert "cirros-0.6.2-x86_64-disk" in [i.name for i in conn.image.images()]


def test_compute_create_with_unknown_image_400(admin):
    body = admin.server_body("x")
    body["server"]["imageRef"] = str(uuid.uuid4())
    resp = admin.compute("POST", "/servers", json=body)
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Can not find requested image"
