/**
 * The pages outside the app (templates/registration/): logging in, and being locked out after
 * too many failed logins. Django renders the page and its data (CSRF token, where to go next,
 * the error); this draws it with the app's theme. The form is a plain HTML form posted to
 * Django's login view, as before.
 */
import "@fontsource-variable/inter";
import "@mantine/core/styles.css";
import "./app.css";

import {
  Alert,
  Anchor,
  Button,
  Center,
  Group,
  MantineProvider,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { IconAlertTriangle, IconLock, IconTopologyStar3 } from "@tabler/icons-react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";

type Data = DOMStringMap;

function Brand() {
  return (
    <Group gap={10} justify="center" mb="md">
      <IconTopologyStar3 size={34} stroke={1.7} color="var(--mantine-primary-color-filled)" aria-hidden="true" />
      <Text fw={700} fz={26}>
        Flowdeck
      </Text>
    </Group>
  );
}

function LoginForm({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center">
        Log in
      </Title>
      <Text c="dimmed" size="sm" ta="center" mt={4} mb="lg">
        Build, run and take part in your workflows.
      </Text>
      {data.error && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert" mb="md">
          Your username and password didn't match. Please try again.
        </Alert>
      )}
      <form method="post" action={data.action}>
        <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
        <input type="hidden" name="next" value={data.next ?? ""} />
        <Stack gap="md">
          <TextInput
            label="Username"
            name="username"
            id="id_username"
            autoComplete="username"
            required
            autoFocus
            size="md"
            defaultValue={data.username ?? ""}
          />
          <PasswordInput
            label="Password"
            name="password"
            id="id_password"
            autoComplete="current-password"
            required
            size="md"
            // Not "toggle password visibility": a second control named "password" for tools
            // that find the field by its label.
            visibilityToggleButtonProps={{ "aria-label": "Show or hide what is typed" }}
          />
          <Button type="submit" size="md" fullWidth mt="xs">
            Log in
          </Button>
        </Stack>
      </form>
    </>
  );
}

function Locked({ data }: { data: Data }) {
  const minutes = Number(data.minutes ?? 0);
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        Too many failed logins
      </Title>
      <Alert color="orange" variant="light" icon={<IconLock size={18} />} role="alert">
        Logging in is locked for a while after repeated wrong passwords. Try again in {minutes} minute
        {minutes === 1 ? "" : "s"}.
      </Alert>
      <Text ta="center" mt="md">
        <Anchor href={data.back}>Back to the login page</Anchor>
      </Text>
    </>
  );
}

const PAGES: Record<string, (props: { data: Data }) => React.JSX.Element> = { login: LoginForm, locked: Locked };

const root = document.getElementById("root");
if (!root) throw new Error("the page must contain <div id=\"root\">");
const Page = PAGES[root.dataset.page ?? "login"] ?? LoginForm;

createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      colorSchemeManager={colorSchemeManager}
      cssVariablesResolver={cssVariablesResolver}
    >
      <Center mih="100dvh" p="md" component="main">
        <Paper withBorder shadow="sm" p="xl" w="100%" maw={400}>
          <Brand />
          <Page data={root.dataset} />
        </Paper>
      </Center>
    </MantineProvider>
  </StrictMode>,
);
