"""boto3: pagination of ListSecrets (botocore paginator, MaxItems/StartingToken resume) and ListSecretVersionIds
(NextToken loop; botocore 1.29 ships no paginator for it, so one is built from the same config newer botocore uses)."""

from botocore.paginate import Paginator

from boto3_common import absent, check, eq, expect_error, run, token, unique

SECRETS = 23
VERSIONS = 26


def _names(prefix, count):
    return [f"{prefix}/{i:03d}" for i in range(count)]


def _no_duplicates(items, what):
    seen = set()
    duplicates = sorted({item for item in items if item in seen or seen.add(item)})
    eq(duplicates, [], f"{what}: duplicates")


def _create_many(c, prefix):
    names = _names(prefix, SECRETS)
    for name in names:
        c.create_secret(Name=name, SecretString="b3-page", Description="b3 pagination")
    return names


def scenario_list_secrets_paginator(c):
    prefix = unique("b3-page")
    names = _create_many(c, prefix)
    name_filter = [{"Key": "name", "Values": [prefix + "/"]}]

    pages = list(c.get_paginator("list_secrets").paginate(Filters=name_filter, PaginationConfig={"PageSize": 5}))
    sizes = [len(page["SecretList"]) for page in pages]
    check(all(size <= 5 for size in sizes), "every page holds at most PageSize=5 entries", sizes)
    eq(len(pages), 5, f"pages of 5 over {SECRETS} secrets (sizes {sizes})")
    absent(pages[-1], "NextToken", "last ListSecrets page")
    for page in pages[:-1]:
        check(bool(page.get("NextToken")), "every page but the last has a NextToken", page.get("NextToken"))
    listed = [entry["Name"] for page in pages for entry in page["SecretList"]]
    _no_duplicates(listed, "filtered ListSecrets pages")
    eq(sorted(listed), sorted(names), "filtered ListSecrets pages: none missing, none extra")

    # The whole server, unfiltered, in small pages: every secret of ours exactly once.
    everything = c.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 7}).build_full_result()
    all_names = [entry["Name"] for entry in everything["SecretList"]]
    _no_duplicates(all_names, "unfiltered ListSecrets pages")
    eq(sorted(n for n in all_names if n.startswith(prefix + "/")), sorted(names), "unfiltered ListSecrets pages: ours, once each")


def scenario_list_secrets_max_items_resume(c):
    prefix = unique("b3-resume")
    names = _create_many(c, prefix)
    name_filter = [{"Key": "name", "Values": [prefix + "/"]}]
    paginator = c.get_paginator("list_secrets")

    collected = []
    starting = None
    rounds = 0
    while True:
        config = {"MaxItems": 7, "PageSize": 3}
        if starting:
            config["StartingToken"] = starting
        part = paginator.paginate(Filters=name_filter, PaginationConfig=config).build_full_result()
        check(len(part["SecretList"]) <= 7, "MaxItems=7 caps a round", len(part["SecretList"]))
        collected += [entry["Name"] for entry in part["SecretList"]]
        starting = part.get("NextToken")
        rounds += 1
        if not starting or rounds > 10:
            break
    eq(rounds, 4, f"rounds of MaxItems=7 over {SECRETS} secrets")
    _no_duplicates(collected, "MaxItems/StartingToken rounds")
    eq(sorted(collected), sorted(names), "MaxItems/StartingToken rounds: none missing, none extra")


def scenario_list_secrets_max_results_by_hand(c):
    prefix = unique("b3-hand")
    names = _create_many(c, prefix)
    name_filter = [{"Key": "name", "Values": [prefix + "/"]}]
    collected = []
    kwargs = {"Filters": name_filter, "MaxResults": 10}
    for _ in range(10):
        page = c.list_secrets(**kwargs)
        check(len(page["SecretList"]) <= 10, "MaxResults=10 caps a page", len(page["SecretList"]))
        collected += [entry["Name"] for entry in page["SecretList"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    _no_duplicates(collected, "ListSecrets NextToken loop")
    eq(sorted(collected), sorted(names), "ListSecrets NextToken loop: none missing, none extra")
    expect_error("InvalidNextTokenException", None, c.list_secrets, NextToken="not-a-token-b3")


def _versions_setup(c):
    name = unique("b3-versions")
    ids = [token()]
    c.create_secret(Name=name, SecretString="b3-v0", ClientRequestToken=ids[0])
    for i in range(1, VERSIONS):
        ids.append(token())
        c.put_secret_value(SecretId=name, SecretString=f"b3-v{i}", ClientRequestToken=ids[-1])
    return name, ids


def scenario_list_secret_version_ids_pages(c):
    name, ids = _versions_setup(c)

    collected = []
    kwargs = {"SecretId": name, "IncludeDeprecated": True, "MaxResults": 4}
    pages = 0
    for _ in range(20):
        page = c.list_secret_version_ids(**kwargs)
        pages += 1
        check(len(page["Versions"]) <= 4, "MaxResults=4 caps a page", len(page["Versions"]))
        eq(page["Name"], name, "ListSecretVersionIds page Name")
        collected += [v["VersionId"] for v in page["Versions"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    eq(pages, 7, f"pages of 4 over {VERSIONS} versions")
    _no_duplicates(collected, "ListSecretVersionIds pages")
    eq(sorted(collected), sorted(ids), "ListSecretVersionIds pages: none missing, none extra")

    # The same through a botocore Paginator configured as newer botocore's paginators-1.json does.
    operation = c.meta.service_model.operation_model("ListSecretVersionIds")
    config = {"input_token": "NextToken", "output_token": "NextToken", "limit_key": "MaxResults", "result_key": "Versions"}
    if c.can_paginate("list_secret_version_ids"):
        paginator = c.get_paginator("list_secret_version_ids")
    else:
        paginator = Paginator(c.list_secret_version_ids, config, operation)
    result = paginator.paginate(SecretId=name, IncludeDeprecated=True, PaginationConfig={"PageSize": 3}).build_full_result()
    by_paginator = [v["VersionId"] for v in result["Versions"]]
    _no_duplicates(by_paginator, "ListSecretVersionIds paginator")
    eq(sorted(by_paginator), sorted(ids), "ListSecretVersionIds paginator: none missing, none extra")

    # Only the two labelled versions without IncludeDeprecated, one per page.
    first = c.list_secret_version_ids(SecretId=name, MaxResults=1)
    eq(len(first["Versions"]), 1, "first page of MaxResults=1")
    check(bool(first.get("NextToken")), "a second labelled version remains", first.get("NextToken"))
    second = c.list_secret_version_ids(SecretId=name, MaxResults=1, NextToken=first["NextToken"])
    absent(second, "NextToken", "last page of labelled versions")
    labelled = {v["VersionId"]: v["VersionStages"] for v in first["Versions"] + second["Versions"]}
    eq(labelled, {ids[-2]: ["AWSPREVIOUS"], ids[-1]: ["AWSCURRENT"]}, "labelled versions over two pages")
    expect_error("InvalidNextTokenException", None, c.list_secret_version_ids, SecretId=name, NextToken="not-a-token-b3")


if __name__ == "__main__":
    run(globals())
