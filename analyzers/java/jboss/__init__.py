"""JBoss EAP / WildFly in standalone mode (application mode): the server from jboss.home.dir,
the application from jboss.server.base.dir.

Domain mode is not claimed: the process controller and host controller
(``org.jboss.as.process-controller``, ``org.jboss.as.host-controller``) and the servers they start
(``org.jboss.as.server``) are managed from domain.xml, which this analyzer does not model; detect
returns None and java-generic lists them.

One module per concern: ``command`` (the jboss-modules command line and WildFly's server
arguments), ``expressions`` (``${…}`` resolution), ``folders`` (the server's directories and named
paths), ``serverconfig`` (standalone.xml: interfaces, socket bindings, listeners), ``datasources``
(datasources and the secrets of a server configuration), ``deployments`` (what the server deploys
and its context roots), ``version``, ``container`` (the image's entry point and standalone.xml) and
``analyzer`` (the analyzer class). The package exports the analyzer class only, for the registry.
"""

from a2c.analyzers.java.jboss.analyzer import JBossAnalyzer

__all__ = ["JBossAnalyzer"]
