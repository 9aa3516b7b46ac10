async def test_sign_in_create_read(alice, exhibition):
    response = await alice.request("GET", f"/studio/api/exhibitions/{exhibition}")
    assert response.status == 200, await response.text()
    body = await response.json()
    print(body)
    assert body["title"] == {"sv": "Sjöstaden", "en": "The lake town"}
