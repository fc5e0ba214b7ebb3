"""What each version is compared against, in the history, the acceptance page and the staff preview."""

from policies import selectors


def test_history_pairs_each_version_with_the_one_before(make_version, in_force_v1, privacy_document):
    v2 = make_version("# Policy\n\nWe keep your name too.\n", publish=True)
    make_version("# Policy\n\nDraft.\n")  # drafts are not history
    history = selectors.list_version_history(document=privacy_document)
    assert [(v.number, p.number if p else None) for v, p in history] == [(v2.number, in_force_v1.number), (1, None)]


def test_a_draft_is_compared_with_the_version_in_force(make_version, in_force_v1):
    v2 = make_version("# Policy\n\nSecond.\n", publish=True)
    draft = make_version("# Policy\n\nThird.\n")
    assert selectors.get_compared_version(version=draft) == v2
    assert selectors.get_compared_version(version=v2) == in_force_v1
    assert selectors.get_compared_version(version=in_force_v1) is None
