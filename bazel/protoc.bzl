"""C++ code generation with Debian's protoc and grpc_cpp_plugin (no protobuf rules needed)."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def protoc_cc_library(name, src, import_root, out_prefix, services = False,
                      runtime = "@system//:protobuf", **kwargs):
    """Generates C++ for one .proto file and wraps it in a cc_library.

    Args:
      name: the cc_library's name.
      src: the .proto file, a label or a path under import_root.
      import_root: the directory that import statements are relative to.
      out_prefix: src's path below import_root, without ".proto"; generated headers are
        included as "<out_prefix>.pb.h" (and ".grpc.pb.h" with services).
      services: whether to generate gRPC service stubs too.
      runtime: the protobuf library it links; None for a LITE_RUNTIME file whose
        binaries each choose theirs (-lprotobuf-lite for a static launcher).
      **kwargs: passed to cc_library (visibility, ...).
    """
    exts = [".pb.h", ".pb.cc"]
    if services:
        exts += [".grpc.pb.h", ".grpc.pb.cc"]
    outs = [out_prefix + ext for ext in exts]
    grpc_flags = ""
    if services:
        grpc_flags = ("--plugin=protoc-gen-grpc=$(location @system//:bin/grpc_cpp_plugin) " +
                      "--grpc_out=$(RULEDIR) ")
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = outs,
        tools = ["@system//:bin/protoc", "@system//:bin/grpc_cpp_plugin"],
        cmd = ("$(location @system//:bin/protoc) -I{root} -I/usr/include " +
               "--cpp_out=$(RULEDIR) {grpc} {root}/{prefix}.proto").format(
            root = import_root,
            grpc = grpc_flags,
            prefix = out_prefix,
        ),
    )
    cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        # Generated code trips -Wextra in ways that are not ours to fix.
        copts = ["-w"],
        strip_include_prefix = "/" + native.package_name(),
        deps = (["@system//:grpc"] if services else []) + ([runtime] if runtime else []),
        **kwargs
    )

def grpc_cc_library(name, src, import_root, out_prefix, messages, **kwargs):
    """Generates the gRPC stubs of one .proto file whose messages `messages` holds.

    Args:
      name: the cc_library's name.
      src: the .proto file, a label or a path under import_root.
      import_root: the directory that import statements are relative to.
      out_prefix: src's path below import_root, without ".proto"; the stubs are
        included as "<out_prefix>.grpc.pb.h".
      messages: the protoc_cc_library of the same file.
      **kwargs: passed to cc_library (visibility, ...).
    """
    outs = [out_prefix + ext for ext in [".grpc.pb.h", ".grpc.pb.cc"]]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = outs,
        tools = ["@system//:bin/protoc", "@system//:bin/grpc_cpp_plugin"],
        cmd = ("$(location @system//:bin/protoc) -I{root} -I/usr/include " +
               "--plugin=protoc-gen-grpc=$(location @system//:bin/grpc_cpp_plugin) " +
               "--grpc_out=$(RULEDIR) {root}/{prefix}.proto").format(
            root = import_root,
            prefix = out_prefix,
        ),
    )
    cc_library(
        name = name,
        srcs = [outs[1]],
        hdrs = [outs[0]],
        copts = ["-w"],
        strip_include_prefix = "/" + native.package_name(),
        deps = [messages, "@system//:grpc", "@system//:protobuf"],
        **kwargs
    )
