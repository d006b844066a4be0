"""The end-to-end tests' common shape."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def e2e_test(name, deps = [], tags = [], **kwargs):
    """A test that starts real sandboxd servers (tests/sandboxd_process.h).

    They run outside Bazel's sandbox: it maps no user but root, and a server running
    as root hands its commands to another user (sandboxd --command_user).

    Args:
      name: the test, whose source is NAME.cc.
      deps: more than the server harness, the API stubs and GoogleTest.
      tags: more than "no-sandbox".
      **kwargs: passed to cc_test (data, ...).
    """
    cc_test(
        name = name,
        size = "medium",
        srcs = [name + ".cc"],
        deps = [
            ":sandboxd_process",
            ":test_util",
            "//proto:sandbox_cc_grpc",
            "@system//:gtest_main",
        ] + deps,
        tags = ["no-sandbox"] + tags,
        **kwargs
    )
