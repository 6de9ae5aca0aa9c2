package org.springframework.boot.loader.launch;

import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * A small stand-in for Spring Boot 3.2's JarLauncher (not Spring's code): it runs the
 * Start-Class of this jar with BOOT-INF/classes and BOOT-INF/lib/*.jar on the class path.
 * The JDK cannot load classes from a jar inside a jar, so the nested jars are copied to a
 * temporary folder first (removed again when the JVM exits).
 */
public class JarLauncher {
    public static void main(String[] args) throws Exception {
        File self = new File(JarLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<URL> urls = new ArrayList<>();
        String startClass;
        try (JarFile jar = new JarFile(self)) {
            startClass = jar.getManifest().getMainAttributes().getValue("Start-Class");
            if (startClass == null) {
                throw new IllegalStateException("No 'Start-Class' manifest entry specified in " + self);
            }
            urls.add(new URL("jar:" + self.toURI() + "!/BOOT-INF/classes/"));
            Path libDir = Files.createTempDirectory("boot-nested");
            libDir.toFile().deleteOnExit();
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                String name = entry.getName();
                if (name.startsWith("BOOT-INF/lib/") && name.endsWith(".jar")) {
                    Path target = libDir.resolve(name.substring("BOOT-INF/lib/".length()));
                    try (InputStream in = jar.getInputStream(entry)) {
                        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                    target.toFile().deleteOnExit();
                    urls.add(target.toUri().toURL());
                }
            }
        }
        ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Method main = Class.forName(startClass, true, loader).getMethod("main", String[].class);
        main.invoke(null, (Object) args);
    }
}
