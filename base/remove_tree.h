#ifndef SANDBOXD_BASE_REMOVE_TREE_H_
#define SANDBOXD_BASE_REMOVE_TREE_H_

#include <string>

namespace sandboxd {

// Removes `name` in the directory `dir` with everything below it, never following a
// symlink (each level is opened with O_NOFOLLOW and emptied through its descriptor),
// with two descriptors at most however deep the tree: for trees a command made, which
// the server (perhaps root) removes. A directory made unreadable or unwritable by its
// owner is given back its rights first; a tree moved while it is removed is left.
void RemoveTree(int dir, const std::string& name);

}  // namespace sandboxd

#endif  // SANDBOXD_BASE_REMOVE_TREE_H_
