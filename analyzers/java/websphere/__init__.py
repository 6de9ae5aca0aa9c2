"""IBM WebSphere Application Server, traditional and Liberty (process mode).

Neither can be rebuilt from the host in application mode (IBM licenses the server and publishes
its own images), so the install, the profile or server folder and the applications are copied
as they are; other profiles or servers beside the one that runs are left out.

Credentials to outside systems (J2C authentication data, LDAP bind passwords, data source
passwords) are replaced: in a profile by ``${A2C_SECRET_…}`` placeholders that the entry script
fills at start; in Liberty's server.xml by ``${env.A2C_SECRET_…}``, which Liberty resolves
itself. Key material of the cell (LTPA keys, keystores) stays, and a finding says so.

The two products share little: ``traditional`` and ``liberty`` each read their own server,
``shared`` holds the XML and secret helpers both use, ``analyzer`` the analyzer class that picks
one. The package exports the analyzer class only, for the registry.
"""

from a2c.analyzers.java.websphere.analyzer import WebSphereAnalyzer

__all__ = ["WebSphereAnalyzer"]
