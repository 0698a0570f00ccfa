// SPDX-License-Identifier: MIT
// rsync's partial dirs that a stopped rsync left empty.
#pragma once

#include <cstddef>
#include <string>

#include "ports/file_system.h"

namespace ubc {

// Removes every empty directory named exactly kRsyncPartialDir below root (the disk's own
// entries left out, no symlink followed, no mount crossed); returns how many it removed.
// rsync stopped between creating its partial dir and writing into it leaves the dir
// empty, and the copies that follow never delete it: its filter protects it as rsync's
// own. A partial dir that still holds a file is kept, for a resume to continue.
std::size_t remove_empty_partial_dirs(FileSystem& fs, const std::string& root);

}  // namespace ubc
