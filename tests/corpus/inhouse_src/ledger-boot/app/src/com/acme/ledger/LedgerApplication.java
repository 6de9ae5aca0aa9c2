package com.acme.ledger;

import com.acme.ledger.model.Account;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import org.springframework.boot.actuate.health.Status;

/**
 * The ledger service: a Spring-Boot-shaped REST API without Spring. It reads its settings from
 * the same places, in the same order, as Spring Boot (command line, system properties,
 * environment, ./config/application.properties, ./application.properties, then the
 * application.properties inside the jar), serves its API under server.servlet.context-path,
 * Actuator's health endpoint on the separate management.server.port, and logs to the console
 * and to logging.file.name as Boot does.
 */
public final class LedgerApplication {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    private static final List<Account> ACCOUNTS = List.of(
            new Account("ACC-1001", "Northwind Traders", "EUR", "12500.00"),
            new Account("ACC-1002", "Contoso Ltd", "USD", "830.15"),
            new Account("ACC-1003", "Fabrikam Inc", "GBP", "-42.70"));

    private static String[] arguments = new String[0];
    private static String appName = "application";
    private static Writer logFile;

    public static void main(String[] args) throws IOException {
        long started = System.nanoTime();
        arguments = args;
        appName = property("spring.application.name", "application");
        int port = Integer.parseInt(property("server.port", "8080"));
        String address = property("server.address", "");
        String contextPath = property("server.servlet.context-path", "").replaceAll("/+$", "");
        String managementPort = property("management.server.port", "");
        String managementAddress = property("management.server.address", address);
        String basePath = property("management.endpoints.web.base-path", "/actuator").replaceAll("/+$", "");
        String logName = property("logging.file.name", "");
        if (!logName.isEmpty()) {
            Path log = Paths.get(logName);
            if (log.getParent() != null) {
                Files.createDirectories(log.getParent());
            }
            logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
        log("Starting LedgerApplication v1.4.2 using Java " + System.getProperty("java.version")
                + " with PID " + ProcessHandle.current().pid() + " (" + Paths.get("").toAbsolutePath() + ")");
        log("No active profile set, falling back to 1 default profile: \"default\"");

        HttpServer server = HttpServer.create(socket(address, port), 0);
        server.createContext("/", LedgerApplication::notFound);
        server.createContext(contextPath + "/api/accounts", LedgerApplication::accounts);
        server.setExecutor(Executors.newFixedThreadPool(8));

        HttpServer management = server;
        if (!managementPort.isEmpty() && !managementPort.equals(String.valueOf(port))) {
            management = HttpServer.create(socket(managementAddress, Integer.parseInt(managementPort)), 0);
            management.createContext("/", LedgerApplication::notFound);
            management.setExecutor(Executors.newFixedThreadPool(2));
            basePath = property("management.server.base-path", "").replaceAll("/+$", "") + basePath;
        } else {
            basePath = contextPath + basePath;
        }
        final String base = basePath;
        management.createContext(base, exchange -> actuator(exchange, base));

        server.start();
        log("Web server started on port " + port + " (http) with context path '" + contextPath + "'");
        if (management != server) {
            management.start();
            log("Management server started on port " + managementPort + " (http)");
        }
        log("Exposing 2 endpoint(s) beneath base path '" + basePath + "'");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("Commencing graceful shutdown. Waiting for active requests to complete");
            closeLog();
        }, "SpringApplicationShutdownHook"));
        log(String.format("Started LedgerApplication in %.3f seconds (process running for %.3f)",
                (System.nanoTime() - started) / 1e9, ManagementFactory.getRuntimeMXBean().getUptime() / 1e3));
    }

    private static InetSocketAddress socket(String address, int port) {
        return address.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(address, port);
    }

    private static void accounts(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String root = exchange.getHttpContext().getPath();
        if (path.equals(root) || path.equals(root + "/")) {
            respond(exchange, 200, "application/json", Account.toJson(ACCOUNTS));
            return;
        }
        for (Account account : ACCOUNTS) {
            if (path.equals(root + "/" + account.getId())) {
                respond(exchange, 200, "application/json", account.toJson());
                return;
            }
        }
        notFound(exchange);
    }

    private static void actuator(HttpExchange exchange, String base) throws IOException {
        String path = exchange.getRequestURI().getPath().replaceAll("/+$", "");
        String type = "application/vnd.spring-boot.actuator.v3+json";
        if (path.equals(base + "/health") || path.startsWith(base + "/health/")) {
            respond(exchange, 200, type, Status.UP.toJson());
        } else if (path.equals(base + "/info")) {
            respond(exchange, 200, type, "{\"app\":{\"name\":\"" + appName + "\",\"version\":\"1.4.2\"}}");
        } else if (path.equals(base)) {
            respond(exchange, 200, type, "{\"_links\":{\"self\":{\"href\":\"" + base + "\",\"templated\":false},"
                    + "\"health\":{\"href\":\"" + base + "/health\",\"templated\":false},"
                    + "\"info\":{\"href\":\"" + base + "/info\",\"templated\":false}}}");
        } else {
            notFound(exchange);
        }
    }

    private static void notFound(HttpExchange exchange) throws IOException {
        String body = "{\"timestamp\":\"" + OffsetDateTime.now().format(TIME) + "\",\"status\":404,"
                + "\"error\":\"Not Found\",\"path\":\"" + exchange.getRequestURI().getPath() + "\"}";
        respond(exchange, 404, "application/json", body);
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (!head) {
                out.write(bytes);
            }
        }
        log(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " -> " + status);
    }

    /** One line in Spring Boot 3.2's console format, to stdout and to the log file. */
    private static synchronized void log(String message) {
        String line = String.format("%s  INFO %d --- [%s] [%15.15s] %-40.40s : %s", OffsetDateTime.now().format(TIME),
                ProcessHandle.current().pid(), appName, Thread.currentThread().getName(), "c.acme.ledger.LedgerApplication", message);
        PrintStream out = System.out;
        out.println(line);
        out.flush();
        if (logFile != null) {
            try {
                logFile.write(line + System.lineSeparator());
                logFile.flush();
            } catch (IOException e) {
                out.println("Could not write to the log file: " + e.getMessage());
            }
        }
    }

    private static synchronized void closeLog() {
        try {
            if (logFile != null) {
                logFile.close();
            }
        } catch (IOException ignored) {
            // the JVM is exiting
        }
        logFile = null;
    }

    /** Highest precedence first, as in Spring Boot's externalized configuration. */
    static String property(String key, String fallback) throws IOException {
        String value = null;
        for (String arg : arguments) {
            if (arg.startsWith("--" + key + "=")) {
                value = arg.substring(key.length() + 3);
            }
        }
        if (value == null) {
            value = System.getProperty(key);
        }
        if (value == null) {
            value = System.getenv(key.toUpperCase().replace('.', '_').replace("-", ""));
        }
        if (value == null) {
            value = fromFile(Paths.get("config", "application.properties"), key);
        }
        if (value == null) {
            value = fromFile(Paths.get("application.properties"), key);
        }
        if (value == null) {
            try (InputStream in = LedgerApplication.class.getClassLoader().getResourceAsStream("application.properties")) {
                if (in != null) {
                    Properties props = new Properties();
                    props.load(in);
                    value = props.getProperty(key);
                }
            }
        }
        return value != null ? value.trim() : fallback;
    }

    private static String fromFile(Path file, String key) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            Properties props = new Properties();
            props.load(reader);
            return props.getProperty(key);
        }
    }
}
