"""Bundle the sandbox's request schemas with it.

The sandbox reads the vendor's request schemas (``requests-v1.*.json``) from its package when
it starts (``uploader_app/sandbox/spec.py``); PyInstaller copies only Python code by itself.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("uploader_app.sandbox")
