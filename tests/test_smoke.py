from .api import Api, Library, Workspace, make_contact


async def test_created_contact_is_listed(api: Api, workspace: Workspace, library: Library) -> None:
    # given
    contact = await make_contact(api, workspace, library, phone="14155550100")
    # when
    data = await api.data(
        "{ contacts { totalCount edges { node { id phone waId status { name } } } } }", token=workspace.token
    )
    # then
    assert contact["phone"] == "+14155550100"
    assert data["contacts"]["totalCount"] == 1
    node = data["contacts"]["edges"][0]["node"]
    assert node == {
        "id": contact["id"],
        "phone": "+14155550100",
        "waId": "14155550100",
        "status": {"name": "New"},
    }
