/**
 * The API reference's frame (/api/docs/, templates/api_docs.html): Flowdeck's header above
 * drf-spectacular's Swagger UI, in the app's theme, light or dark as the app is. Swagger UI
 * has a dark theme of its own under `html.dark-mode`: this sets that class from the app's
 * colour scheme (remembered choice, else the system's) and keeps it in step with the menu.
 */
import "@fontsource-variable/inter";
import "@mantine/core/styles.css";
import "./app.css";
import "./apidocs.css";

import {
  ActionIcon,
  Button,
  Group,
  MantineProvider,
  Text,
  Title,
  Tooltip,
  useComputedColorScheme,
} from "@mantine/core";
import { IconArrowLeft, IconBook, IconTopologyStar3 } from "@tabler/icons-react";
import { StrictMode, useEffect } from "react";
import { createRoot } from "react-dom/client";

import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";
import { ColorSchemeMenu } from "./ui/ColorSchemeMenu";

/** Swagger UI's dark theme follows the computed scheme. */
function SwaggerScheme() {
  const computed = useComputedColorScheme("light");
  useEffect(() => {
    document.documentElement.classList.toggle("dark-mode", computed === "dark");
  }, [computed]);
  return null;
}


function Header() {
  return (
    <header className="fd-api-header">
      <Group className="fd-api-header-inner" justify="space-between" wrap="nowrap" gap="sm">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          <a href="/" className="fd-brand" aria-label="Flowdeck home">
            <Group gap={8} wrap="nowrap">
              <IconTopologyStar3 size={26} stroke={1.7} color="var(--mantine-primary-color-filled)" aria-hidden="true" />
              <Text fw={700} size="lg" visibleFrom="xs">
                Flowdeck
              </Text>
            </Group>
          </a>
          <Text c="dimmed" aria-hidden="true">
            /
          </Text>
          <Title order={1} size="h4" fw={600} style={{ whiteSpace: "nowrap" }}>
            API reference
          </Title>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Button component="a" href="/docs/" variant="subtle" leftSection={<IconBook size={18} />} visibleFrom="sm">
            Documentation
          </Button>
          <Tooltip label="Documentation">
            <ActionIcon component="a" href="/docs/" variant="subtle" size={40} aria-label="Documentation" hiddenFrom="sm">
              <IconBook size={20} />
            </ActionIcon>
          </Tooltip>
          <Button component="a" href="/" variant="default" leftSection={<IconArrowLeft size={18} />} visibleFrom="sm">
            Back to Flowdeck
          </Button>
          <Tooltip label="Back to Flowdeck">
            <ActionIcon component="a" href="/" variant="default" size={40} aria-label="Back to Flowdeck" hiddenFrom="sm">
              <IconArrowLeft size={20} />
            </ActionIcon>
          </Tooltip>
          <ColorSchemeMenu />
        </Group>
      </Group>
    </header>
  );
}

const root = document.getElementById("fd-api-header");
if (!root) throw new Error('templates/api_docs.html must contain <div id="fd-api-header">');

createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      colorSchemeManager={colorSchemeManager}
      cssVariablesResolver={cssVariablesResolver}
    >
      <SwaggerScheme />
      <Header />
    </MantineProvider>
  </StrictMode>,
);
