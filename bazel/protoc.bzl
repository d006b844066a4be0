"""C++ code generation with Debian's protoc and grpc_cpp_plugin (no protobuf rules needed)."""

load("@rules_cc//cc:defs.bzl", "cc_library")

_GRPC_FLAGS = ("--plugin=protoc-gen-grpc=$(location @system//:bin/grpc_cpp_plugin) " +
               "--grpc_out=$(RULEDIR) ")

def _generated_cc_library(name, src, import_root, out_prefix, exts, out_flags, deps,
                          imports = [], **kwargs):
    """Runs protoc on `src` with `out_flags`, and wraps the files it writes in a cc_library."""
    outs = [out_prefix + ext for ext in exts]
    native.genrule(
        name = name + "_gen",
        srcs = [src] + imports,
        outs = outs,
        tools = ["@system//:bin/protoc", "@system//:bin/grpc_cpp_plugin"],
        cmd = ("$(location @system//:bin/protoc) -I{root} -I/usr/include {flags}" +
               "{root}/{prefix}.proto").format(
            root = import_root,
            flags = out_flags,
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
        deps = deps,
        **kwargs
    )

def protoc_cc_library(name, src, import_root, out_prefix, services = False,
                      runtime = "@system//:protobuf", imports = [], deps = [], **kwargs):
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
      imports: the .proto files src imports from this project.
      deps: the protoc_cc_libraries of those files.
      **kwargs: passed to cc_library (visibility, ...).
    """
    exts = [".pb.h", ".pb.cc"]
    flags = "--cpp_out=$(RULEDIR) "
    if services:
        exts += [".grpc.pb.h", ".grpc.pb.cc"]
        flags += _GRPC_FLAGS
    deps = deps + (["@system//:grpc"] if services else []) + ([runtime] if runtime else [])
    _generated_cc_library(name, src, import_root, out_prefix, exts, flags, deps, imports,
                          **kwargs)

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
    _generated_cc_library(
        name,
        src,
        import_root,
        out_prefix,
        [".grpc.pb.h", ".grpc.pb.cc"],
        _GRPC_FLAGS,
        [messages, "@system//:grpc", "@system//:protobuf"],
        **kwargs
    )
