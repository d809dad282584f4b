"""Every result format, with its writers and its readers: run, sweep and sensitivity directories.

:mod:`.formats` states each format id, file name and column list once;
:mod:`.manifest` reads and atomically writes manifests and JSON;
:mod:`.destination` checks where an output goes before anything runs;
:mod:`.rundir`, :mod:`.sweepdir` (with :mod:`.points`, a sweep point's file)
and :mod:`.sensitivitydir` write and read one kind of directory each; and
:mod:`.reader` reads any of them, telling them apart by their manifest.
"""
