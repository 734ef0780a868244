#!/usr/bin/python
"""Ansible module: a secret generated on the host once, written atomically, never printed.

The value is made with Python's secrets module on the host, written with mode 0600 to a
temporary file in the target's folder and renamed over the target, so a failure never leaves
an empty or half-written file. An existing secret is kept; one shorter than min_length (e.g. a
placeholder an older version left) is refused unless rotate is set. In check mode nothing is
written: a missing secret (or folder, which a package will make) is reported as a change.
The result never holds the secret, so its messages can be shown; the caller reads the file.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: host_secret
short_description: A secret generated on the host once, written atomically, never printed.
options:
  path: {type: path, required: true, description: File that keeps the secret.}
  length: {type: int, required: true, description: Characters of a generated secret.}
  min_length: {type: int, required: true, description: Shortest secret accepted.}
  alphabet: {type: str, choices: [hex, urlsafe], default: urlsafe, description: Characters used.}
  rotate: {type: bool, default: false, description: Replace an existing secret.}
  owner: {type: str, description: Owner of the file.}
  group: {type: str, description: Group of the file.}
  mode: {type: raw, default: "0600", description: Mode of the file.}
"""

RETURN = r"""
generated: {type: bool, description: Whether this run made (or would make) a new secret.}
"""


def generate(length: int, alphabet: str) -> str:
    if alphabet == "hex":
        return secrets.token_hex((length + 1) // 2)[:length]
    return secrets.token_urlsafe(length)[:length]


def write_atomically(path: Path, value: str) -> None:
    """Write to a private temporary file beside path, flush it to disk, rename it over path."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_secret(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "length": {"type": "int", "required": True, "no_log": False},
            "min_length": {"type": "int", "required": True},
            "alphabet": {"type": "str", "choices": ["hex", "urlsafe"], "default": "urlsafe"},
            "rotate": {"type": "bool", "default": False},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "mode": {"type": "raw", "default": "0600"},
        },
        supports_check_mode=True,
    )
    path = Path(module.params["path"])
    length, minimum = module.params["length"], module.params["min_length"]
    if length < minimum:
        module.fail_json(msg=f"{path}: length={length} is below the minimum of {minimum}.")
    if not path.parent.is_dir():
        if module.check_mode:
            module.exit_json(changed=True, generated=True, msg=f"{path} will be generated")
        module.fail_json(msg=f"{path}: its folder does not exist.")
    try:
        current = read_secret(path)
    except (OSError, UnicodeDecodeError) as error:
        module.fail_json(msg=f"{path}: cannot read the secret: {error}")
    if current is not None and len(current) < minimum and not module.params["rotate"]:
        module.fail_json(
            msg=f"{path} holds a secret of {len(current)} characters, below the minimum of "
            f"{minimum} (a placeholder an older version left?). Replace it with "
            "-e rotate_secrets=true."
        )
    generate_new = current is None or module.params["rotate"]
    if generate_new and module.check_mode:
        module.exit_json(changed=True, generated=True, msg=f"{path} will be generated")
    if generate_new:
        try:
            write_atomically(path, generate(length, module.params["alphabet"]))
        except OSError as error:
            module.fail_json(msg=f"{path}: cannot write the secret: {error}")
    file_args = module.load_file_common_arguments(module.params)
    changed = module.set_fs_attributes_if_different(file_args, generate_new)
    message = f"{path} was generated" if generate_new else f"{path} is kept"
    module.exit_json(changed=changed, generated=generate_new, msg=message)


if __name__ == "__main__":
    main()
