// SPDX-License-Identifier: MIT
// LUKS2 containers through libcryptsetup: opening a rotation disk with its key file,
// closing it (deferred when a pulled-out disk still holds it), and making new ones for
// `prepare-disk --encrypt`.
#pragma once

#include <string>

#include "ports/encrypted_volumes.h"

namespace ubc {

class CryptsetupVolumes final : public EncryptedVolumes {
 public:
  OpenedVolume open(const std::string& devnode, const std::string& name,
                    const std::string& key_file) override;
  bool is_open(const std::string& name) override;
  CloseResult close(const std::string& name) override;
};

// A root-only key file's content: a regular file (no symlink) owned by root, mode without
// group or other bits, 1 byte to 8 KiB. Throws VolumeError saying what is wrong and the fix.
std::string read_key_file(const std::string& path);

// n bytes from the kernel's random generator (getrandom). Throws std::system_error.
std::string random_bytes(std::size_t n);

// Makes a LUKS2 container (aes-xts-plain64, 512-bit volume key, argon2id) on devnode with
// two keyslots -- `key` (the key file's bytes) and the recovery `passphrase` -- and the
// header label `label`. Returns the container's UUID. Throws VolumeError.
std::string format_luks2(const std::string& devnode, const std::string& key,
                         const std::string& passphrase, const std::string& label);

}  // namespace ubc
