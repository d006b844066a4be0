"""The end-to-end tests' common shape."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def e2e_test(name, deps = [], **kwargs):
    """A test that starts real sandboxd servers (tests/sandboxd_process.h).

    Args:
      name: the test, whose source is NAME.cc.
      deps: more than the server harness, the API stubs and GoogleTest.
      **kwargs: passed to cc_test (data, tags, ...).
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
        **kwargs
    )
