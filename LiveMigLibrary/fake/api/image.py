"""A little of Glance v2: version discovery, list and show images."""

from __future__ import annotations

from werkzeug.routing import Rule

from ..exception import NotFound
from .wsgi import ApiRequest, Reply, Service, public


class ImageService(Service):
    name = "image"
    prefix = "/image"

    def rules(self):
        p = self.prefix
        return [
            Rule(p, endpoint=self.versions, methods=["GET"]),
            Rule(p + "/versions", endpoint=self.versions, methods=["GET"]),
            Rule(p + "/v2/images", endpoint=self.images, methods=["GET"]),
            Rule(p + "/v2/images/<image_id>", endpoint=self.image, methods=["GET"]),
        ]

    def error_body(self, req: ApiRequest, code: int, message: str):
        return {"code": code, "title": {404: "Not Found"}.get(code, "Error"), "message": message}

    @public
    def versions(self, req: ApiRequest) -> Reply:
        return Reply(
            300 if req.request.path.rstrip("/") == self.prefix else 200,
            {
                "versions": [
                    {
                        "id": v,
                        "status": "CURRENT" if v == "v2.16" else "SUPPORTED",
                        "links": [{"rel": "self", "href": req.url("/image/v2/")}],
                    }
                    for v in ("v2.16", "v2.0")
                ]
            },
        )

    def _view(self, req: ApiRequest, img) -> dict:
        return {
            "id": img.id,
            "name": img.name,
            "status": img.status,
            "visibility": img.visibility,
            "protected": False,
            "tags": [],
            "disk_format": img.disk_format,
            "container_format": img.container_format,
            "size": img.size,
            "virtual_size": None,
            "checksum": img.checksum,
            "min_disk": img.min_disk,
            "min_ram": img.min_ram,
            "owner": None,
            "os_hidden": False,
            "os_hash_algo": "sha512",
            "os_hash_value": None,
            "created_at": img.created_at,
            "updated_at": img.created_at,
            "self": f"/v2/images/{img.id}",
            "file": f"/v2/images/{img.id}/file",
            "schema": "/v2/schemas/image",
        }

    def images(self, req: ApiRequest) -> Reply:
        imgs = list(req.cloud.store.images.values())
        if (name := req.args.get("name")) is not None:
            imgs = [i for i in imgs if i.name == name]
        if (status := req.args.get("status")) is not None:
            imgs = [i for i in imgs if i.status == status]
        if (vis := req.args.get("visibility")) is not None and vis != "all":
            imgs = [i for i in imgs if i.visibility == vis]
        return Reply(
            200,
            {
                "images": [self._view(req, i) for i in imgs],
                "first": "/v2/images",
                "schema": "/v2/schemas/images",
            },
        )

    def image(self, req: ApiRequest, image_id: str) -> Reply:
        img = req.cloud.store.images.get(image_id)
        if img is None:
            raise NotFound(f"No image found with ID {image_id}")
        return Reply(200, self._view(req, img))
